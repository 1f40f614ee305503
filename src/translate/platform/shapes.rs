//! The nested shapes several platform kinds share, re-expressed from the legacy
//! translators (`entityTranslation.ts`, `helpers.ts`, `resource-utils.ts`): gateways,
//! plane refs, status conditions, agent connections, allowed trait/workflow refs,
//! promotion paths and the workflow parameters annotation. An `Err` is where the
//! JavaScript would throw a TypeError; it names the field.

use serde_json::{json, Value};

use crate::translate::js::{self, get, nullish_or, truthy, when_truthy, Obj};
use super::keys;

/// `spec.gateway` from `spec.gateway.ingress`: absent without an ingress, otherwise
/// `{ingress: {external?, internal?}}`, each side `{name?, namespace?, http?, https?}`
/// and each listener `{host?, port?}` (fields copied as they are, absent ones left out).
pub fn gateway(ingress: Option<&Value>) -> Option<Value> {
    let ingress = when_truthy(ingress)?;
    let listener = |l: Option<&Value>| {
        when_truthy(l).map(|l| {
            let mut o = Obj::default();
            o.put("host", get(Some(l), "host")).put("port", get(Some(l), "port"));
            o.into_value()
        })
    };
    let side = |s: Option<&Value>| {
        when_truthy(s).map(|s| {
            let mut o = Obj::default();
            o.put("name", get(Some(s), "name"))
                .put("namespace", get(Some(s), "namespace"))
                .put("http", listener(get(Some(s), "http")).as_ref())
                .put("https", listener(get(Some(s), "https")).as_ref());
            o.into_value()
        })
    };
    let mut sides = Obj::default();
    sides
        .put("external", side(get(Some(ingress), "external")).as_ref())
        .put("internal", side(get(Some(ingress), "internal")).as_ref());
    Some(json!({ "ingress": sides.into_value() }))
}

/// `normalizeObservabilityPlaneRef(ref.name, ns)` (H:260-276): `''` without a name, a name
/// holding a `/` as it is, otherwise `<ns>/<name>`. The ref's kind is never read, so a
/// namespaced plane's `ClusterObservabilityPlane` ref is qualified with its namespace too.
pub fn namespaced_plane_ref(name: Option<&Value>, ns: &str) -> Result<String, String> {
    let Some(name) = when_truthy(name) else { return Ok(String::new()) };
    // An object is read for its own `name` (arrays never have one).
    let name = match name {
        Value::String(_) => name,
        Value::Object(m) => match m.get("name") {
            Some(inner) => inner,
            None => return Ok(String::new()),
        },
        _ => return Ok(String::new()),
    };
    match name {
        Value::String(s) if s.contains('/') => Ok(s.clone()),
        Value::String(s) => Ok(format!("{ns}/{s}")),
        // `name.includes('/')` on an array compares its elements; with a `/` the array
        // itself would be the annotation, which the catalog refuses.
        Value::Array(items) if !items.iter().any(|i| i == "/") => Ok(format!("{ns}/{}", js::to_string(name))),
        _ => Err(format!("spec.observabilityPlaneRef.name {name} is not a string")),
    }
}

/// `isReady` / `isCreated` (RU:128-139): the first condition of type `kind` has status
/// `True`.
pub fn condition_is_true(item: &Value, kind: &str) -> Result<bool, String> {
    match get(get(Some(item), "status"), "conditions") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Array(conditions)) => {
            for (i, c) in conditions.iter().enumerate() {
                if c.is_null() {
                    return Err(format!("status.conditions[{i}] is null"));
                }
                if get(Some(c), "type").is_some_and(|t| t == kind) {
                    return Ok(get(Some(c), "status").is_some_and(|s| s == "True"));
                }
            }
            Ok(false)
        }
        Some(other) => Err(format!("status.conditions {other} is not a list")),
    }
}

/// `Ready` / `Not Ready`.
pub fn readiness(ready: bool) -> &'static str {
    if ready {
        "Ready"
    } else {
        "Not Ready"
    }
}

/// `mapAgentConnectionAnnotations(status.agentConnection)` (T:1280-1298).
pub fn agent_annotations(item: &Value, annotations: &mut Obj) {
    let Some(agent) = when_truthy(get(get(Some(item), "status"), "agentConnection")) else { return };
    // `x?.toString() || default`.
    let text = |key: &str, default: &str| match get(Some(agent), key) {
        None | Some(Value::Null) => default.to_string(),
        Some(v) => Some(js::to_string(v)).filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string()),
    };
    annotations.set(keys::AGENT_CONNECTED, text("connected", "false"));
    annotations.set(keys::AGENT_CONNECTED_COUNT, text("connectedAgents", "0"));
    annotations.put_truthy(keys::AGENT_LAST_CONNECTED, get(Some(agent), "lastConnectedTime"));
}

/// The kinds an allowed-ref string may name as `<kind>:<name>`.
pub const TRAIT_KINDS: &[&str] = &["Trait", "ClusterTrait"];
pub const WORKFLOW_KINDS: &[&str] = &["ComponentWorkflow", "Workflow", "ClusterWorkflow"];

/// `normalizeAllowedTraits` / `normalizeAllowedWorkflows` (T:134-191): absent when the
/// list is falsy, `[]` when empty, otherwise `{kind, name}` per entry (a `<kind>:<name>`
/// string with a known kind split, any other string a name of `default_kind`, an object's
/// kind defaulted with `??`), entries without a truthy name dropped.
pub fn allowed_refs(field: &str, list: Option<&Value>, default_kind: &str, kinds: &[&str]) -> Result<Option<Value>, String> {
    let Some(list) = when_truthy(list) else { return Ok(None) };
    let items = match list {
        Value::Array(items) if items.is_empty() => return Ok(Some(json!([]))),
        Value::Array(items) => items,
        // `list.length === 0`
        Value::Object(m) if m.get("length").and_then(Value::as_f64) == Some(0.0) => return Ok(Some(json!([]))),
        other => return Err(format!("{field} {other} is not a list")),
    };
    let mut out = Vec::new();
    for item in items.iter().filter(|i| truthy(Some(i))) {
        let (kind, name) = match item {
            Value::String(s) => match s.split_once(':') {
                Some((kind, name)) if kinds.contains(&kind) => (json!(kind), Some(json!(name))),
                _ => (json!(default_kind), Some(item.clone())),
            },
            other => (nullish_or(get(Some(other), "kind"), default_kind), get(Some(other), "name").cloned()),
        };
        if truthy(name.as_ref()) {
            let mut o = Obj::default();
            o.set("kind", kind).put("name", name.as_ref());
            out.push(o.into_value());
        }
    }
    Ok(Some(Value::Array(out)))
}

/// A DeploymentPipeline's `spec.promotionPaths` (T:1750-1761): `[]` when absent; each
/// path's source is its string ref, else the ref's `name ?? ''`; its targets keep only
/// `name`.
pub fn promotion_paths(spec: Option<&Value>) -> Result<Value, String> {
    let paths = match get(spec, "promotionPaths") {
        None | Some(Value::Null) => return Ok(json!([])),
        Some(Value::Array(paths)) => paths,
        Some(other) => return Err(format!("spec.promotionPaths {other} is not a list")),
    };
    let mut out = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        if path.is_null() {
            return Err(format!("spec.promotionPaths[{i}] is null"));
        }
        let source = match get(Some(path), "sourceEnvironmentRef") {
            Some(s @ Value::String(_)) => s.clone(),
            other => nullish_or(get(other, "name"), ""),
        };
        let targets = match get(Some(path), "targetEnvironmentRefs") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(targets)) => {
                let mut names = Vec::with_capacity(targets.len());
                for (j, t) in targets.iter().enumerate() {
                    if t.is_null() {
                        return Err(format!("spec.promotionPaths[{i}].targetEnvironmentRefs[{j}] is null"));
                    }
                    let mut o = Obj::default();
                    o.put("name", get(Some(t), "name"));
                    names.push(o.into_value());
                }
                names
            }
            Some(other) => return Err(format!("spec.promotionPaths[{i}].targetEnvironmentRefs {other} is not a list")),
        };
        out.push(json!({ "sourceEnvironment": source, "targetEnvironments": targets }));
    }
    Ok(Value::Array(out))
}

/// Schema extensions that mark a workflow parameter as a repository field, and the key
/// each becomes in the annotation, in the order the legacy table lists them.
const REPOSITORY_EXTENSIONS: &[(&str, &str)] = &[
    ("x-openchoreo-component-parameter-repository-url", "repoUrl"),
    ("x-openchoreo-component-parameter-repository-branch", "branch"),
    ("x-openchoreo-component-parameter-repository-commit", "commit"),
    ("x-openchoreo-component-parameter-repository-app-path", "appPath"),
    ("x-openchoreo-component-parameter-repository-secret-ref", "secretRef"),
];

/// `extractWorkflowParameters(spec)` (T:93-132): `key: parameters.<dotted path>` lines for
/// the properties flagged with a repository extension (`true`), keys in the order first
/// found, a later property with the same flag taking over the path. `None` when nothing
/// is flagged.
pub fn workflow_parameters(spec: Option<&Value>) -> Option<String> {
    let section = when_truthy(get(spec, "parameters")).or_else(|| get(get(spec, "schema"), "parameters"));
    let schema = when_truthy(get(section, "openAPIV3Schema")).or_else(|| get(section, "ocSchema"));
    let properties = when_truthy(get(schema, "properties"))?;
    // Keys in insertion order with their latest path.
    let mut mapping: Vec<(&'static str, String)> = Vec::new();
    walk_properties(properties, "parameters", &mut mapping);
    if mapping.is_empty() {
        return None;
    }
    Some(mapping.iter().map(|(k, path)| format!("{k}: {path}")).collect::<Vec<_>>().join("\n"))
}

fn walk_properties(properties: &Value, prefix: &str, mapping: &mut Vec<(&'static str, String)>) {
    for (name, schema) in js::entries(properties) {
        if !matches!(schema, Value::Object(_) | Value::Array(_)) {
            continue;
        }
        let path = format!("{prefix}.{name}");
        for (ext, key) in REPOSITORY_EXTENSIONS {
            if get(Some(schema), ext) == Some(&Value::Bool(true)) {
                match mapping.iter_mut().find(|(k, _)| k == key) {
                    Some(entry) => entry.1 = path.clone(),
                    None => mapping.push((key, path.clone())),
                }
            }
        }
        if let Some(nested) = when_truthy(get(Some(schema), "properties")) {
            walk_properties(nested, &path, mapping);
        }
    }
}

/// `Object.keys(v).length > 0` for a truthy object (arrays count their elements).
pub fn non_empty_object(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

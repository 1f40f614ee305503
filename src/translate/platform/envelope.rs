//! What every platform kind's entity shares, declared per kind in a [`KindDef`]: the
//! envelope (apiVersion, name, namespace, title, description fallback, `openchoreo` tag,
//! managed-by annotations and label, namespace / created-at / status / agent / deletion
//! annotations, `spec.domain`). Each kind's `fill` adds the rest.

use serde_json::{json, Value};

use crate::translate::js::{get, or, when_truthy, Obj};
use super::keys;
use super::shapes;
use crate::translate::{Entity, TranslateContext};

/// Where a kind lives.
pub enum Scope {
    /// In the walked OpenChoreo namespace, with an `openchoreo.io/namespace` annotation;
    /// `domain` adds `spec.domain: default/<ns>`.
    Namespaced { domain: bool },
    /// In `openchoreo-cluster`, without a namespace annotation or domain.
    Cluster,
}

/// How `openchoreo.io/created-at` is written.
pub enum CreatedAt {
    /// Always, `''` without a timestamp (`createdAt || ''`).
    Always,
    /// Only with a timestamp (`...(createdAt && {...})`).
    WhenSet,
}

/// What one OpenChoreo kind's entity holds (its list and translator are paired in
/// [`crate::kinds::LISTS`]).
pub struct KindDef {
    /// The Backstage kind as emitted.
    pub kind: &'static str,
    pub scope: Scope,
    /// Names an item in errors (`environment "dev" in namespace acme`).
    pub noun: &'static str,
    /// The description without an `openchoreo.dev/description` annotation; `{name}` is
    /// replaced by the item's name.
    pub fallback: &'static str,
    /// Tags after `openchoreo`; `fill` may push more.
    pub tags: &'static [&'static str],
    pub created_at: CreatedAt,
    /// The status condition (`Ready` / `Created`) behind `openchoreo.io/status`, if any.
    pub status: Option<&'static str>,
    /// Whether `status.agentConnection` becomes annotations (the planes).
    pub agent: bool,
    /// A label set to `"true"` beside `openchoreo.io/managed`.
    pub label: Option<&'static str>,
    /// Adds the kind's own tags, annotations, labels and spec fields.
    pub fill: fn(&mut Draft) -> Result<(), String>,
}

/// An entity being built from one item.
pub struct Draft<'a> {
    pub ctx: &'a TranslateContext,
    pub item: &'a Value,
    /// `item.spec`.
    pub spec_in: Option<&'a Value>,
    pub name: &'a str,
    /// The walked namespace (namespaced kinds only).
    pub ns: Option<&'a str>,
    pub tags: Vec<Value>,
    pub annotations: Obj,
    pub labels: Obj,
    pub spec: Obj,
}

impl<'a> Draft<'a> {
    /// `metadata.<key>` of the item.
    pub fn meta(&self, key: &str) -> Option<&'a Value> {
        get(get(Some(self.item), "metadata"), key)
    }

    /// `item.spec.<key>`.
    pub fn spec_field(&self, key: &str) -> Option<&'a Value> {
        get(self.spec_in, key)
    }

    /// The walked namespace (set for every namespaced kind).
    pub fn namespace(&self) -> &'a str {
        self.ns.unwrap_or_default()
    }
}

/// Translates one item of `def`'s list.
pub fn translate(def: &KindDef, ctx: &TranslateContext, ns: Option<&str>, item: &Value) -> Result<Entity, String> {
    let ns = match def.scope {
        Scope::Namespaced { .. } => {
            Some(ns.ok_or_else(|| format!("cannot translate {}: no OpenChoreo namespace given", def.noun))?)
        }
        Scope::Cluster => None,
    };
    let located = |what: String| match ns {
        Some(ns) => format!("{what} in namespace {ns}"),
        None => what,
    };
    let meta = get(Some(item), "metadata");
    let name = match get(meta, "name") {
        Some(Value::String(name)) => name.as_str(),
        Some(other) => {
            return Err(format!("cannot translate {}: metadata.name {other} is not a string", located(def.noun.to_string())))
        }
        None => return Err(format!("cannot translate {}: metadata.name is missing", located(format!("{} without a name", def.noun)))),
    };
    let what = located(format!("{} {name:?}", def.noun));
    let value = build(def, ctx, ns, item, name).map_err(|e| format!("cannot translate {what}: {e}"))?;
    Entity::from_value(&what, &value)
}

fn build(def: &KindDef, ctx: &TranslateContext, ns: Option<&str>, item: &Value, name: &str) -> Result<Value, String> {
    let mut d = Draft {
        ctx,
        item,
        spec_in: get(Some(item), "spec"),
        name,
        ns,
        tags: std::iter::once("openchoreo").chain(def.tags.iter().copied()).map(Value::from).collect(),
        annotations: Obj::default(),
        labels: Obj::default(),
        spec: Obj::default(),
    };
    let title = or(get(d.meta("annotations"), keys::DISPLAY_NAME), name);
    let description = match when_truthy(get(d.meta("annotations"), keys::DESCRIPTION)) {
        Some(description) => description.clone(),
        None => Value::from(def.fallback.replace("{name}", name)),
    };

    d.annotations.set(keys::MANAGED_BY_LOCATION, ctx.location_key.as_str());
    d.annotations.set(keys::MANAGED_BY_ORIGIN_LOCATION, ctx.location_key.as_str());
    if let Some(ns) = ns {
        d.annotations.set(keys::NAMESPACE, ns);
    }
    let created = d.meta("creationTimestamp");
    match def.created_at {
        CreatedAt::Always => d.annotations.set(keys::CREATED_AT, or(created, "")),
        CreatedAt::WhenSet => d.annotations.put_truthy(keys::CREATED_AT, created),
    };
    if let Some(condition) = def.status {
        d.annotations.set(keys::STATUS, shapes::readiness(shapes::condition_is_true(item, condition)?));
    }
    if def.agent {
        shapes::agent_annotations(item, &mut d.annotations);
    }
    d.annotations.put_truthy(keys::DELETION_TIMESTAMP, d.meta("deletionTimestamp"));

    d.labels.set(keys::MANAGED_LABEL, "true");
    if let Some(label) = def.label {
        d.labels.set(label, "true");
    }
    if let (Scope::Namespaced { domain: true }, Some(ns)) = (&def.scope, ns) {
        d.spec.set("domain", format!("default/{ns}"));
    }

    (def.fill)(&mut d)?;

    Ok(json!({
        "apiVersion": keys::API_VERSION,
        "kind": def.kind,
        "metadata": {
            "name": name,
            "namespace": ns.unwrap_or(keys::CLUSTER_NAMESPACE),
            "title": title,
            "description": description,
            "tags": d.tags,
            "annotations": d.annotations.into_value(),
            "labels": d.labels.into_value(),
        },
        "spec": d.spec.into_value(),
    }))
}

//! Pieces every translated entity shares.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::validate::validate_entity;
use super::TranslateContext;

pub const API_VERSION: &str = "backstage.io/v1alpha1";
pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
pub const MANAGED_LABEL: &str = "openchoreo.io/managed";

/// The `openchoreo.io/*` annotation keys (`CHOREO_ANNOTATIONS` of the legacy plugins).
pub mod ann {
    pub const NAMESPACE: &str = "openchoreo.io/namespace";
    pub const CREATED_AT: &str = "openchoreo.io/created-at";
    pub const STATUS: &str = "openchoreo.io/status";
    pub const DELETION_TIMESTAMP: &str = "openchoreo.io/deletion-timestamp";
    pub const PROJECT: &str = "openchoreo.io/project";
    pub const PROJECT_ID: &str = "openchoreo.io/project-id";
    pub const PROJECT_UID: &str = "openchoreo.io/project-uid";
    pub const PROJECT_TYPE: &str = "openchoreo.io/project-type";
    pub const PROJECT_TYPE_KIND: &str = "openchoreo.io/project-type-kind";
    pub const COMPONENT: &str = "openchoreo.io/component";
    pub const COMPONENT_UID: &str = "openchoreo.io/component-uid";
    pub const COMPONENT_TYPE: &str = "openchoreo.io/component-type";
    pub const COMPONENT_TYPE_KIND: &str = "openchoreo.io/component-type-kind";
    pub const WORKLOAD: &str = "openchoreo.io/workload";
    pub const BRANCH: &str = "openchoreo.io/branch";
    pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
    pub const ENDPOINT_NAME: &str = "openchoreo.io/endpoint-name";
    pub const ENDPOINT_TYPE: &str = "openchoreo.io/endpoint-type";
    pub const ENDPOINT_PORT: &str = "openchoreo.io/endpoint-port";
    pub const ENDPOINT_VISIBILITY: &str = "openchoreo.io/endpoint-visibility";
}

/// Annotations, kept sorted so the output never depends on insertion order.
#[derive(Debug, Default)]
pub struct Annotations(BTreeMap<String, String>);

impl Annotations {
    /// Starts with the two managed-by-location annotations every entity carries.
    pub fn managed(ctx: &TranslateContext) -> Self {
        let mut a = Self::default();
        a.set(MANAGED_BY_LOCATION, &ctx.location_key);
        a.set(MANAGED_BY_ORIGIN_LOCATION, &ctx.location_key);
        a
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    /// Sets `key` only when `value` is present (the legacy `...(x && {key: x})`).
    pub fn set_opt(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.set(key, v);
        }
        self
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }
}

/// `{"openchoreo.io/managed": "true"}`.
pub fn managed_labels() -> Value {
    json!({ MANAGED_LABEL: "true" })
}

/// The first of the candidates that is present and not blank (trimmed), else the
/// configured default owner.
pub fn resolve_owner<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>, ctx: &TranslateContext) -> String {
    candidates.into_iter().flatten().map(str::trim).find(|s| !s.is_empty()).unwrap_or(&ctx.default_owner).to_string()
}

/// Assembles `{apiVersion, kind, metadata, spec}`.
pub fn entity(kind: &str, metadata: Map<String, Value>, spec: Map<String, Value>) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": Value::Object(metadata),
        "spec": Value::Object(spec),
    })
}

/// Validates a finished entity; the error names the entity and the field.
pub fn checked(entity: Value, what: &str) -> Result<Value, String> {
    match validate_entity(&entity) {
        Ok(()) => Ok(entity),
        Err(e) => Err(format!("cannot translate {what}: {e}")),
    }
}

/// A JSON array of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.as_ref().to_string())).collect())
}

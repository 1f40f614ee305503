//! Translated entities as the catalog receives them: JSON text with its entity ref.

use serde_json::Value;

use super::api::{api_entity, ApiSource};
use super::common::{json_str, Doc};
use super::{TranslateContext, WorkloadFacts};
use crate::model::WorkloadEndpoint;

/// A translated entity: its ref and its JSON text, ready for `applyMutation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    entity_ref: String,
    json: String,
}

impl Entity {
    pub(super) fn from_doc(doc: &Doc) -> Entity {
        Entity { entity_ref: doc.entity_ref(), json: doc.to_json() }
    }

    /// An entity as it was stored (a change event's result, see `crate::engine::events`).
    pub(crate) fn from_stored(entity_ref: String, json: String) -> Entity {
        Entity { entity_ref, json }
    }

    /// `kind:namespace/name`, lower-cased.
    pub fn entity_ref(&self) -> &str {
        &self.entity_ref
    }

    /// The entity's compact JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// An entity built as a JSON value (the platform kinds and Templates, whose nested
    /// specs the `Doc` writer does not model), checked as the catalog would check its
    /// envelope; `what` names the source item in the error (`environment "dev" in ns-1`).
    /// Keys are written sorted (serde_json's map is ordered), as `Doc` writes them.
    pub fn from_value(what: &str, v: &Value) -> Result<Entity, String> {
        super::validate::validate_value(v).map_err(|e| format!("cannot translate {what}: {e}"))?;
        Ok(Entity { entity_ref: super::entity_ref(v), json: v.to_string() })
    }

    /// The entity as a JSON value (tests and tools; the walk never parses it back).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.json).expect("an entity's JSON is valid")
    }
}

/// An API entity waiting for its owner: its component's, known only in the components
/// phase, when [`ApiTemplate::render`] makes the entity.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiTemplate {
    /// The endpoint it is made from (what this version stages: about a third of the
    /// entity's size, in the state database and in the staging cache).
    Endpoint { entity_ref: String, endpoint: String, ep: WorkloadEndpoint },
    /// The entity with `"owner":null` in its owner's place, as an earlier version staged it.
    Rendered { entity_ref: String, json: String },
}

/// Where the owner goes. In compact JSON every quote inside a string is escaped, so this
/// text can only be the `spec.owner` key and its value.
const OWNER_SLOT: &str = "\"owner\":null";

impl ApiTemplate {
    pub fn entity_ref(&self) -> &str {
        match self {
            ApiTemplate::Endpoint { entity_ref, .. } | ApiTemplate::Rendered { entity_ref, .. } => entity_ref,
        }
    }

    /// The API entity with `spec.owner` set to `owner` (resolved, non-blank); `facts` are
    /// its workload's, `namespace` the walk's.
    pub fn render(&self, ctx: &TranslateContext, namespace: &str, facts: &WorkloadFacts, owner: &str) -> Entity {
        match self {
            ApiTemplate::Endpoint { endpoint, ep, .. } => {
                let source = ApiSource {
                    namespace,
                    project: &facts.project,
                    component: &facts.component,
                    workload: &facts.workload_name,
                    endpoint,
                };
                api_entity(ctx, &source, ep, owner)
            }
            ApiTemplate::Rendered { entity_ref, json } => Entity { entity_ref: entity_ref.clone(), json: with_owner(json, owner) },
        }
    }
}

/// A rendered template's JSON with `spec.owner` set.
fn with_owner(json: &str, owner: &str) -> String {
    match json.find(OWNER_SLOT) {
        Some(at) => {
            let mut out = Vec::with_capacity(json.len() + owner.len() + 2);
            out.extend_from_slice(&json.as_bytes()[..at]);
            out.extend_from_slice(b"\"owner\":");
            json_str(&mut out, owner);
            out.extend_from_slice(&json.as_bytes()[at + OWNER_SLOT.len()..]);
            String::from_utf8(out).expect("spliced UTF-8 is UTF-8")
        }
        // Staged by an even earlier version with the default owner in place.
        None => {
            let mut v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
            if v.get("spec").is_some_and(Value::is_object) {
                v["spec"]["owner"] = Value::String(owner.to_string());
            }
            v.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_owner_is_spliced_into_its_slot_and_escaped() {
        let json = r#"{"kind":"API","metadata":{"description":"says \"owner\":null"},"spec":{"owner":null,"type":"openapi"}}"#;
        let v: Value = serde_json::from_str(&with_owner(json, "group:default/a\"b")).unwrap();
        assert_eq!(v["spec"]["owner"], "group:default/a\"b");
        assert_eq!(v["metadata"]["description"], "says \"owner\":null", "text inside strings is never the slot");
    }

    #[test]
    fn a_template_staged_by_an_earlier_version_still_gets_its_owner() {
        let old = json!({"kind": "API", "spec": {"owner": "group:default/openchoreo-users", "type": "openapi"}});
        let v: Value = serde_json::from_str(&with_owner(&old.to_string(), "user:default/jane")).unwrap();
        assert_eq!(v["spec"]["owner"], "user:default/jane");
    }
}

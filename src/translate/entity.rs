//! Translated entities as the catalog receives them: JSON text with its entity ref.

use serde_json::Value;

use super::common::{json_str, Doc};

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

    /// `kind:namespace/name`, lower-cased.
    pub fn entity_ref(&self) -> &str {
        &self.entity_ref
    }

    /// The entity's compact JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The entity as a JSON value (tests and tools; the walk never parses it back).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.json).expect("an entity's JSON is valid")
    }
}

/// An API entity waiting for its owner: its component's, known only in the components
/// phase. Its JSON holds `"owner":null`, which [`ApiTemplate::with_owner`] fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTemplate {
    entity_ref: String,
    json: String,
}

/// Where the owner goes. In compact JSON every quote inside a string is escaped, so this
/// text can only be the `spec.owner` key and its value.
const OWNER_SLOT: &str = "\"owner\":null";

impl ApiTemplate {
    pub(super) fn from_doc(doc: &Doc) -> ApiTemplate {
        let json = doc.to_json();
        debug_assert_eq!(json.matches(OWNER_SLOT).count(), 1, "an API template has one owner slot");
        ApiTemplate { entity_ref: doc.entity_ref(), json }
    }

    /// A template read back from the state database.
    pub fn from_parts(entity_ref: String, json: String) -> ApiTemplate {
        ApiTemplate { entity_ref, json }
    }

    pub fn entity_ref(&self) -> &str {
        &self.entity_ref
    }

    pub fn json(&self) -> &str {
        &self.json
    }

    /// The API entity with `spec.owner` set to `owner` (resolved, non-blank).
    pub fn with_owner(&self, owner: &str) -> Entity {
        let json = match self.json.find(OWNER_SLOT) {
            Some(at) => {
                let mut out = Vec::with_capacity(self.json.len() + owner.len() + 2);
                out.extend_from_slice(&self.json.as_bytes()[..at]);
                out.extend_from_slice(b"\"owner\":");
                json_str(&mut out, owner);
                out.extend_from_slice(&self.json.as_bytes()[at + OWNER_SLOT.len()..]);
                String::from_utf8(out).expect("spliced UTF-8 is UTF-8")
            }
            // Staged by an earlier version with the default owner in place.
            None => {
                let mut v: Value = serde_json::from_str(&self.json).unwrap_or(Value::Null);
                if v.get("spec").is_some_and(Value::is_object) {
                    v["spec"]["owner"] = Value::String(owner.to_string());
                }
                v.to_string()
            }
        };
        Entity { entity_ref: self.entity_ref.clone(), json }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_owner_is_spliced_into_its_slot_and_escaped() {
        let t = ApiTemplate::from_parts(
            "api:acme/x".into(),
            r#"{"kind":"API","metadata":{"description":"says \"owner\":null"},"spec":{"owner":null,"type":"openapi"}}"#.into(),
        );
        let e = t.with_owner("group:default/a\"b");
        assert_eq!(e.entity_ref(), "api:acme/x");
        let v = e.to_value();
        assert_eq!(v["spec"]["owner"], "group:default/a\"b");
        assert_eq!(v["metadata"]["description"], "says \"owner\":null", "text inside strings is never the slot");
    }

    #[test]
    fn a_template_staged_by_an_earlier_version_still_gets_its_owner() {
        let old = json!({"kind": "API", "spec": {"owner": "group:default/openchoreo-users", "type": "openapi"}});
        let e = ApiTemplate::from_parts("api:acme/x".into(), old.to_string()).with_owner("user:default/jane");
        assert_eq!(e.to_value()["spec"]["owner"], "user:default/jane");
    }
}

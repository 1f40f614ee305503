//! `GET .../{name}/schema`: the parameter schema of a (cluster) component or resource
//! type, derived from the stored item as the server derives it
//! (`schema.SectionToRawJSONSchema(spec.parameters)`): `spec.parameters.openAPIV3Schema`
//! with local `$ref`s (`#/$defs/X`, `#/definitions/X`) replaced by their targets and the
//! definitions dropped, vendor extensions (`x-*`) kept; `{"type": "object",
//! "properties": {}}` when the item has no schema. An edited item changes its schema.

use serde_json::{json, Map, Value};

pub(crate) fn parameters_schema(item: &Value) -> Value {
    match item.pointer("/spec/parameters/openAPIV3Schema") {
        Some(Value::Object(root)) => {
            let root = Value::Object(root.clone());
            let mut out = resolve(&root, &root, 0);
            if let Value::Object(m) = &mut out {
                m.remove("$defs");
                m.remove("definitions");
            }
            out
        }
        _ => json!({"type": "object", "properties": {}}),
    }
}

/// Replaces `{"$ref": "#/..."}` by the referenced schema (siblings of `$ref` kept),
/// recursively; depth-bounded so a self-referencing schema cannot loop.
fn resolve(v: &Value, root: &Value, depth: usize) -> Value {
    match v {
        Value::Object(m) => {
            if let Some(target) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|ptr| root.pointer(ptr))
                .filter(|_| depth < 32)
            {
                let mut merged: Map<String, Value> = match resolve(target, root, depth + 1) {
                    Value::Object(t) => t,
                    other => return other,
                };
                for (k, v) in m.iter().filter(|(k, _)| *k != "$ref") {
                    merged.insert(k.clone(), resolve(v, root, depth + 1));
                }
                return Value::Object(merged);
            }
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, root, depth)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| resolve(v, root, depth)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_refs_and_defaults_to_an_empty_object() {
        let item = json!({"spec": {"parameters": {"openAPIV3Schema": {
            "type": "object",
            "$defs": {"R": {"type": "object", "properties": {"cpu": {"type": "string"}}}},
            "properties": {"r": {"$ref": "#/$defs/R", "description": "limits"}, "x": {"type": "string", "x-flag": true}}
        }}}});
        assert_eq!(
            parameters_schema(&item),
            json!({"type": "object", "properties": {
                "r": {"type": "object", "properties": {"cpu": {"type": "string"}}, "description": "limits"},
                "x": {"type": "string", "x-flag": true}
            }})
        );
        assert_eq!(parameters_schema(&json!({"spec": {}})), json!({"type": "object", "properties": {}}));
    }
}
